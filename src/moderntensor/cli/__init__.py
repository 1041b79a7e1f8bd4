"""The ``moderntensor`` command (alias ``mtcli``)."""
