-- lsp-backoff in front of basedpyright (or pyright) and rust-analyzer: Neovim 0.11+,
-- built-in `vim.lsp.config` / `vim.lsp.enable`, no plugin needed.
--
-- Paste into your init.lua (or save as ~/.config/nvim/plugin/lsp-backoff.lua). If you also use
-- nvim-lspconfig 2.x, its lsp/*.lua defaults are merged with this and only `cmd` changes.
-- `lsp-backoff` and the servers must be on PATH (pipx install lsp-backoff; pip install
-- basedpyright). Proxy options go before `--`, e.g. { 'lsp-backoff', '--timeout', '60', '--', … }.

vim.lsp.config('basedpyright', {
  cmd = { 'lsp-backoff', '--', 'basedpyright-langserver', '--stdio' },
  filetypes = { 'python' },
  root_markers = { 'pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt', '.git' },
  settings = { basedpyright = { analysis = { diagnosticMode = 'openFilesOnly' } } },
})

-- pyright from npm instead: enable 'pyright' below rather than 'basedpyright'.
vim.lsp.config('pyright', {
  cmd = { 'lsp-backoff', '--', 'pyright-langserver', '--stdio' },
  filetypes = { 'python' },
  root_markers = { 'pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt', '.git' },
})

vim.lsp.config('rust_analyzer', {
  cmd = { 'lsp-backoff', '--', 'rust-analyzer' },
  filetypes = { 'rust' },
  root_markers = { 'Cargo.toml', '.git' },
})

vim.lsp.enable({ 'basedpyright', 'rust_analyzer' })
