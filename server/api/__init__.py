"""The REST API at `/api/`: sign-in, the office's registry and desks, the public shop card."""
