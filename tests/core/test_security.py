"""Password hashing and signed tokens."""

import base64
import json
from datetime import timedelta

import bcrypt
import jwt
import pytest

from core.security import (
    JWT_ALGORITHM,
    InvalidTokenError,
    TokenType,
    create_token,
    decode_token,
    hash_password,
    verify_password,
)

ROUNDS = 4
SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def test_hash_is_not_the_password_and_verifies() -> None:
    hashed = hash_password("s3cret password", rounds=ROUNDS)

    assert "s3cret password" not in hashed
    assert verify_password("s3cret password", hashed, rounds=ROUNDS) is True


def test_hash_is_salted() -> None:
    assert hash_password("same", rounds=ROUNDS) != hash_password("same", rounds=ROUNDS)


def test_hash_uses_the_given_work_factor() -> None:
    assert hash_password("x", rounds=5).startswith("$bcrypt-sha256$v=2,t=2b,r=5$")


def test_wrong_password_does_not_verify() -> None:
    hashed = hash_password("s3cret password", rounds=ROUNDS)

    assert verify_password("s3cret passwore", hashed, rounds=ROUNDS) is False


def test_every_character_of_a_long_password_counts() -> None:
    # bcrypt alone reads 72 bytes; here the password is hashed whole.
    hashed = hash_password("é" * 100, rounds=ROUNDS)  # 200 bytes

    assert verify_password("é" * 100, hashed, rounds=ROUNDS) is True
    assert verify_password("é" * 99 + "e", hashed, rounds=ROUNDS) is False
    assert verify_password("é" * 36, hashed, rounds=ROUNDS) is False


def test_a_nul_is_a_character_like_any_other() -> None:
    hashed = hash_password("correct\x00horse", rounds=ROUNDS)

    assert verify_password("correct\x00horse", hashed, rounds=ROUNDS) is True
    assert verify_password("correct", hashed, rounds=ROUNDS) is False


def test_a_hash_made_by_plain_bcrypt_still_verifies() -> None:
    hashed = bcrypt.hashpw(b"s3cret password", bcrypt.gensalt(ROUNDS)).decode()

    assert verify_password("s3cret password", hashed, rounds=ROUNDS) is True
    assert verify_password("s3cret passwore", hashed, rounds=ROUNDS) is False


@pytest.mark.parametrize("password", ["x" * 73, "correct\x00horse"])
def test_what_plain_bcrypt_cannot_read_is_false_against_its_hash_not_an_error(password: str) -> None:
    hashed = bcrypt.hashpw(b"correct", bcrypt.gensalt(ROUNDS)).decode()

    assert verify_password(password, hashed, rounds=ROUNDS) is False


def test_verify_against_no_hash_is_false() -> None:
    assert verify_password("anything", None, rounds=ROUNDS) is False


# --- tokens ---


def make(token_type: TokenType = TokenType.ACCESS, **kwargs: object) -> str:
    values: dict[str, object] = {
        "subject": "user-1",
        "token_type": token_type,
        "secret": SECRET,
        "lifetime": timedelta(minutes=5),
    }
    token, _ = create_token(**{**values, **kwargs})  # type: ignore[arg-type]
    return token


def segments(token: str) -> list[str]:
    return token.split(".")


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, object]:
    payload = segments(token)[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_token_round_trip_keeps_subject_type_and_claims() -> None:
    token, expires_at = create_token(
        subject="user-1",
        token_type=TokenType.REFRESH,
        secret=SECRET,
        lifetime=timedelta(days=1),
        claims={"sid": "session-9"},
    )

    claims = decode_token(token, secret=SECRET, token_type=TokenType.REFRESH)

    assert (claims["sub"], claims["type"], claims["sid"]) == ("user-1", "refresh", "session-9")
    assert claims["exp"] == int(expires_at.timestamp())
    assert expires_at.tzinfo is not None


def test_tokens_get_distinct_ids() -> None:
    first = decode_token(make(), secret=SECRET, token_type=TokenType.ACCESS)
    second = decode_token(make(), secret=SECRET, token_type=TokenType.ACCESS)

    assert first["jti"] != second["jti"]


def test_extra_claims_cannot_override_the_reserved_ones() -> None:
    token = make(claims={"sub": "admin", "type": "refresh"})

    claims = decode_token(token, secret=SECRET, token_type=TokenType.ACCESS)

    assert (claims["sub"], claims["type"]) == ("user-1", "access")


def test_tampered_payload_is_refused() -> None:
    header, _, signature = segments(make())
    forged = f"{header}.{b64({**claims_of(make()), 'sub': 'admin'})}.{signature}"

    with pytest.raises(InvalidTokenError):
        decode_token(forged, secret=SECRET, token_type=TokenType.ACCESS)


def test_tampered_signature_is_refused() -> None:
    header, payload, _ = segments(make())
    other_signature = segments(make(secret="another-secret-that-is-long-enough-too"))[2]

    with pytest.raises(InvalidTokenError):
        decode_token(f"{header}.{payload}.{other_signature}", secret=SECRET, token_type=TokenType.ACCESS)


def test_alg_none_token_is_refused() -> None:
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{segments(make())[1]}."

    with pytest.raises(InvalidTokenError):
        decode_token(unsigned, secret=SECRET, token_type=TokenType.ACCESS)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_token_signed_with_another_hmac_algorithm_is_refused() -> None:
    token = jwt.encode(claims_of(make()), SECRET, algorithm="HS512")
    assert JWT_ALGORITHM != "HS512"

    with pytest.raises(InvalidTokenError):
        decode_token(token, secret=SECRET, token_type=TokenType.ACCESS)


def test_expired_token_is_refused() -> None:
    token = make(lifetime=timedelta(seconds=-1))

    with pytest.raises(InvalidTokenError):
        decode_token(token, secret=SECRET, token_type=TokenType.ACCESS)


@pytest.mark.parametrize(
    ("made_as", "read_as"), [(TokenType.REFRESH, TokenType.ACCESS), (TokenType.ACCESS, TokenType.REFRESH)]
)
def test_token_of_the_wrong_type_is_refused(made_as: TokenType, read_as: TokenType) -> None:
    with pytest.raises(InvalidTokenError, match=f"expected a {read_as.value} token"):
        decode_token(make(made_as), secret=SECRET, token_type=read_as)


@pytest.mark.parametrize("claim", ["sub", "type", "iat", "exp", "jti"])
def test_token_missing_a_claim_is_refused(claim: str) -> None:
    claims = claims_of(make())
    del claims[claim]

    with pytest.raises(InvalidTokenError):
        decode_token(
            jwt.encode(claims, SECRET, algorithm=JWT_ALGORITHM), secret=SECRET, token_type=TokenType.ACCESS
        )


def test_token_signed_with_another_secret_is_refused() -> None:
    token = make(secret="not-the-secret-the-server-uses-at-all")

    with pytest.raises(InvalidTokenError):
        decode_token(token, secret=SECRET, token_type=TokenType.ACCESS)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidTokenError):
        decode_token(garbage, secret=SECRET, token_type=TokenType.ACCESS)
