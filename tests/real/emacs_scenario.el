;;; emacs_scenario.el --- eglot + lsp-backoff + basedpyright, in batch mode  -*- lexical-binding: t; -*-

;; Run by tests/real/test_editor_emacs.py:
;;   emacs --batch -l editors/emacs/lsp-backoff-eglot.el -l emacs_scenario.el
;; with $SCENARIO_FILE (the Python file to open) and $SCENARIO_OUT (results, as JSON).
;; Every wait is bounded; any error writes {"error": ...} and exits non-zero.

;;; Code:

(require 'eglot)
(require 'json)
(require 'xref)

(defvar scenario-results nil "Alist written to $SCENARIO_OUT at the end.")
(defvar scenario-server nil)

(defun scenario-put (key value)
  (setq scenario-results (cons (cons key value) scenario-results)))

(defun scenario-finish (code)
  (with-temp-file (getenv "SCENARIO_OUT")
    (insert (json-encode scenario-results)))
  (kill-emacs code))

(defun scenario-wait (what predicate &optional seconds)
  "Process events until PREDICATE holds; error after SECONDS (60)."
  (let ((deadline (+ (float-time) (or seconds 60))))
    (while (not (funcall predicate))
      (when (> (float-time) deadline)
        (error "Timed out waiting for %s" what))
      (accept-process-output nil 0.05))))

(defun scenario-xref-location (item)
  (let ((loc (xref-item-location item)))
    (list (cons 'file (xref-file-location-file loc))
          (cons 'line (xref-file-location-line loc)))))

(defun scenario-goto (needle)
  (goto-char (point-min))
  (search-forward needle)
  (goto-char (match-beginning 0)))

(defun scenario-request (method params)
  "METHOD with PARAMS through eglot's connection: (result . error-code)."
  (condition-case err
      (cons (jsonrpc-request scenario-server method params) nil)
    (jsonrpc-error
     (cons nil (alist-get 'jsonrpc-error-code (cdr err))))))

(condition-case err
    (progn
      (setq eglot-sync-connect 60
            eglot-autoshutdown nil
            eglot-events-buffer-size 0)
      ;; project.el 0.8 knows only VC roots; without one every folder is its own
      ;; "transient" project and shapes/base.py would not join app.py's server.
      (add-hook 'project-find-functions
                (lambda (dir)
                  (let ((root (locate-dominating-file dir "pyproject.toml")))
                    (and root (cons 'transient root)))))
      (find-file (getenv "SCENARIO_FILE"))
      (python-mode)
      (let ((contact (eglot--guess-contact)))
        (scenario-put 'contact (nth 3 contact))
        (apply #'eglot contact))
      (scenario-wait "eglot to connect"
                     (lambda () (setq scenario-server (eglot-current-server))))
      (scenario-put 'server_name
                    (plist-get (eglot--server-info scenario-server) :name))

      ;; Go to definition of `summarize' in main().
      (scenario-goto "summarize(")
      (let ((defs (xref-backend-definitions
                   'eglot (xref-backend-identifier-at-point 'eglot))))
        (scenario-put 'definition (scenario-xref-location (car defs))))

      ;; References to `Shape' (in shapes/base.py).
      (find-file (expand-file-name "shapes/base.py"
                                   (file-name-directory (getenv "SCENARIO_FILE"))))
      (scenario-wait "eglot to manage base.py" (lambda () (eglot-managed-p)))
      (scenario-goto "Shape:")
      (let ((refs (xref-backend-references
                   'eglot (xref-backend-identifier-at-point 'eglot))))
        (scenario-put 'references
                      (mapcar (lambda (item)
                                (let ((loc (scenario-xref-location item)))
                                  (format "%s:%s"
                                          (file-name-nondirectory (alist-get 'file loc))
                                          (alist-get 'line loc))))
                              refs)))

      ;; A failing request, twice: basedpyright errors on a negative line; the proxy
      ;; should answer the retry itself with null.
      (let* ((params (list :textDocument (list :uri (eglot--path-to-uri (getenv "SCENARIO_FILE")))
                           :position (list :line -1 :character 0)))
             (first (scenario-request :textDocument/definition params))
             (second (scenario-request :textDocument/definition params)))
        (scenario-put 'failing (list (cons 'first_error (cdr first))
                                     (cons 'second_error (cdr second))
                                     (cons 'second_result (car second)))))

      (scenario-put 'stats (car (scenario-request :lspBackoff/stats nil)))
      (scenario-put 'flush (car (scenario-request :lspBackoff/flush nil)))
      (eglot-shutdown scenario-server)
      (scenario-finish 0))
  (error
   (scenario-put 'error (error-message-string err))
   (message "emacs scenario failed: %s" (error-message-string err))
   (scenario-finish 1)))

;;; emacs_scenario.el ends here
