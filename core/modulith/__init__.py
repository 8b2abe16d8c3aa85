"""The module map: what the modules are, what each offers the others and what each uses of them.

A module is a folder under `modules/`. Its public surface is two files: `api.py` (what other
modules may call: functions, dependencies such as `CurrentUser`, read schemas) and `events.py`
(the events it publishes). Everything else in the folder is its own. The map is read from the
source alone, with the standard library (`ast`), never by importing the code: `make lint` checks
the boundaries with it (`verify`), `make modules` draws it into docs/modules.md (`document`,
beside the reference pages of `reference`), `make test module=...` and `changed=...` pick tests
with it (`slices`), and generation writes a new service's docs with it before anything is
installed.

    python -m core.modulith verify | document [--check] | tests (--module NAME | --changed REF)
"""
