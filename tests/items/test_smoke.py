async def test_create_and_list(client, user_headers):
    r = await client.post("/api/v1/items", json={"title": "first"}, headers=user_headers)
    assert r.status_code == 201, r.text
    r = await client.get("/api/v1/items", headers=user_headers)
    assert r.json()["total"] == 1, r.text


async def test_register_login_refresh(client):
    r = await client.post(
        "/api/v1/auth/register", json={"email": "Bob@Example.com", "password": "password123"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "bob@example.com"
    r = await client.post(
        "/api/v1/auth/login", data={"username": "BOB@example.com", "password": "password123"}
    )
    assert r.status_code == 200, r.text
    tokens = r.json()
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    r2 = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r2.status_code == 401
    r3 = await client.post("/api/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]})
    assert r3.status_code == 401
    r = await client.get("/api/v1/users/me", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert r.status_code == 200, r.text
