"""/admin: the operators' site, where superusers browse and edit every module's tables (sqladmin).

A module shows its tables by declaring their views in its `admin.py` and handing them over as
`pages = AdminPages(views=[...])`; this module finds every `admin.py` through discovery, so
nobody keeps a list. One module (auth) also hands over `sign_in`: how a password is checked and
an account reloaded. What other modules may use is in `api.py`.
"""
