-- lsp-backoff in front of basedpyright and rust-analyzer with nvim-lspconfig's `setup{}`
-- (nvim-lspconfig < 2, or Neovim < 0.11). Only `cmd` changes; every other default is kept.
-- On Neovim 0.11 with nvim-lspconfig 2.x prefer lsp-backoff.lua next to this file.

local ok, lspconfig = pcall(require, 'lspconfig')
if not ok then
  return -- nvim-lspconfig is not installed: nothing to configure
end

lspconfig.basedpyright.setup({
  cmd = { 'lsp-backoff', '--', 'basedpyright-langserver', '--stdio' },
})

-- pyright from npm instead of basedpyright:
-- lspconfig.pyright.setup({ cmd = { 'lsp-backoff', '--', 'pyright-langserver', '--stdio' } })

lspconfig.rust_analyzer.setup({
  cmd = { 'lsp-backoff', '--', 'rust-analyzer' },
})
