;;; lsp-backoff-eglot.el --- lsp-backoff in front of basedpyright and rust-analyzer (eglot)  -*- lexical-binding: t; -*-

;; Paste into your init.el (Emacs 29+ ships eglot; on Emacs 28 install it from GNU ELPA or
;; Debian's elpa-eglot).  `lsp-backoff' and the servers must be on `exec-path'.
;; Proxy options go before "--", e.g. ("lsp-backoff" "--timeout" "60" "--" ...).

;;; Code:

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((python-mode python-ts-mode)
                 . ("lsp-backoff" "--" "basedpyright-langserver" "--stdio")))
  ;; pyright from npm instead:
  ;; '((python-mode python-ts-mode) . ("lsp-backoff" "--" "pyright-langserver" "--stdio"))
  (add-to-list 'eglot-server-programs
               '((rust-mode rust-ts-mode) . ("lsp-backoff" "--" "rust-analyzer"))))

(provide 'lsp-backoff-eglot)
;;; lsp-backoff-eglot.el ends here
