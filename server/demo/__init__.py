"""The demo district (`mashang demo`): a seeded 明楼街道 with its people, shops and months of history."""
