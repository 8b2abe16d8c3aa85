"""Feature modules. Each sub-package is found by `core.discovery`; nothing lists them by hand."""
