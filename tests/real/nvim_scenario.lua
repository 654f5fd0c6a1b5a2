-- Drives Neovim (headless) through the editor scenario of tests/real/test_editor_neovim.py.
-- Started as: nvim --headless --clean -u editors/neovim/lsp-backoff.lua -S nvim_scenario.lua
-- with $SCENARIO_FILE (the Python file to open) and $SCENARIO_OUT (where results go, as JSON).
-- Every step is bounded by vim.wait; any failure writes {"error": …} and exits non-zero.

local out_path = assert(os.getenv('SCENARIO_OUT'), 'SCENARIO_OUT not set')
local results = { steps = {} }
local WAIT_MS = 60000

local function finish(code)
  local f = assert(io.open(out_path, 'w'))
  f:write(vim.json.encode(results))
  f:close()
  vim.cmd((code == 0 and 'qall!') or ('cquit ' .. code))
end

local function step(name, fn)
  local ok, err = pcall(fn)
  table.insert(results.steps, name)
  if not ok then
    results.error = name .. ': ' .. tostring(err)
    io.stderr:write('nvim scenario failed at ' .. results.error .. '\n')
    finish(1)
  end
end

local function wait(what, cond)
  if not vim.wait(WAIT_MS, cond, 50) then
    error('timed out waiting for ' .. what)
  end
end

local client, buf
results.progress = {}
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local value = ev.data and ev.data.params and ev.data.params.value
    if type(value) == 'table' then
      table.insert(results.progress, value.kind .. ' ' .. (value.title or value.message or ''))
    end
  end,
})

local function cursor_to(needle, occurrence)
  local seen = 0
  for lnum, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    local start = 1
    while true do
      local col = line:find(needle, start, true)
      if not col then
        break
      end
      seen = seen + 1
      if seen == occurrence then
        vim.api.nvim_win_set_cursor(0, { lnum, col - 1 })
        return
      end
      start = col + 1
    end
  end
  error(needle .. ' not found')
end

step('open the file and attach through the proxy', function()
  vim.cmd.edit(assert(os.getenv('SCENARIO_FILE')))
  buf = vim.api.nvim_get_current_buf()
  wait('basedpyright to attach', function()
    client = vim.lsp.get_clients({ bufnr = buf, name = 'basedpyright' })[1]
    return client ~= nil and client.initialized
  end)
  results.cmd = client.config.cmd
  results.server_name = client.server_info and client.server_info.name
end)

step('wait for the diagnostics', function()
  -- The unresolved import is reported once basedpyright has checked the file.
  wait('diagnostics', function()
    return #vim.diagnostic.get(buf) > 0
  end)
  results.diagnostics = vim.tbl_map(function(d)
    return d.message
  end, vim.diagnostic.get(buf))
end)

step('go to definition', function()
  cursor_to('summarize(', 1)
  vim.lsp.buf.definition()
  wait('the jump to report.py', function()
    return vim.api.nvim_buf_get_name(0):match('report%.py$') ~= nil
  end)
  local pos = vim.api.nvim_win_get_cursor(0)
  results.definition = { file = vim.api.nvim_buf_get_name(0), line = pos[1], col = pos[2] }
  vim.cmd.buffer(buf)
end)

step('references', function()
  local base = vim.fs.joinpath(vim.fs.dirname(vim.api.nvim_buf_get_name(buf)), 'shapes', 'base.py')
  vim.cmd.edit(base)
  wait('basedpyright on base.py', function()
    return #vim.lsp.get_clients({ bufnr = 0, name = 'basedpyright' }) > 0
  end)
  cursor_to('class Shape', 1)
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_win_get_cursor(0)[1], 6 })
  local items
  vim.lsp.buf.references({ includeDeclaration = true }, {
    on_list = function(list)
      items = list.items
    end,
  })
  wait('references', function()
    return items ~= nil
  end)
  results.references = vim.tbl_map(function(item)
    return vim.fs.basename(item.filename) .. ':' .. item.lnum
  end, items)
  vim.cmd.buffer(buf)
end)

step('a failing request, twice', function()
  -- basedpyright fails on a negative line (-32603); the proxy should answer the retry itself.
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = -1, character = 0 },
  }
  local first = client:request_sync('textDocument/definition', params, WAIT_MS, buf)
  local second = client:request_sync('textDocument/definition', params, WAIT_MS, buf)
  results.failing = {
    first_error = first and first.err and first.err.code,
    second_error = second and second.err and second.err.code or vim.NIL,
    second_result = second and second.result or vim.NIL,
  }
end)

step('the proxy counters and graph flush', function()
  local stats = client:request_sync('lspBackoff/stats', {}, WAIT_MS, buf)
  results.stats = stats and (stats.result or { error = stats.err })
  local flush = client:request_sync('lspBackoff/flush', {}, WAIT_MS, buf)
  results.flush = flush and (flush.result or { error = flush.err })
end)

step('stop the client', function()
  client:stop()
  wait('the server to exit', function()
    return client:is_stopped()
  end)
end)

finish(0)
