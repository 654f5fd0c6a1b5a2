;;; lsp-backoff-lsp-mode.el --- lsp-backoff in front of basedpyright and rust-analyzer (lsp-mode)  -*- lexical-binding: t; -*-

;; Paste into your init.el.  rust-analyzer: lsp-mode takes the whole command as a list.
;; basedpyright/pyright: lsp-pyright only lets you pick the executable's name, so this
;; registers its own client (a higher priority than lsp-pyright's, so it wins for Python).

;;; Code:

(with-eval-after-load 'lsp-rust
  (setq lsp-rust-analyzer-server-command '("lsp-backoff" "--" "rust-analyzer")))

(with-eval-after-load 'lsp-mode
  (lsp-register-client
   (make-lsp-client
    :new-connection (lsp-stdio-connection
                     '("lsp-backoff" "--" "basedpyright-langserver" "--stdio"))
    :major-modes '(python-mode python-ts-mode)
    :server-id 'basedpyright-lsp-backoff
    :priority 5)))

(provide 'lsp-backoff-lsp-mode)
;;; lsp-backoff-lsp-mode.el ends here
