"""Personalisation: a shopper's profile from their own events (interaction embedding, brand/colour/type affinity,
price range) and the bounded ranking phase that uses it."""
