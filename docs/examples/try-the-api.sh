# Register, sign in, and read your own account back (needs curl and python3).
API=${API:-http://127.0.0.1:8000/api/v1}
curl -sf -w '\n' "$API/auth/register" -H 'Content-Type: application/json' \
  -d '{"email": "ada@example.com", "password": "correct horse battery"}'
TOKEN=$(curl -sf "$API/auth/login" -d 'username=ada@example.com&password=correct horse battery' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
curl -sf -w '\n' "$API/users/me" -H "Authorization: Bearer $TOKEN"
