"""Sign-up, sign-in and sessions: registration, login, refresh-token rotation, logout."""
