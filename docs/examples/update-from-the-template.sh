# Bring in what the template changed since the service was made, review it, then commit it.
git status          # must be clean: commit or stash first
make update         # cruft update: applies the template's changes, commits nothing
git diff HEAD       # review (HEAD: cruft stages most of what it applies); then
make test && git add -A && git commit -m "Update from the template"
