"""Beyond one search: complete-the-look outfits, and products bought together."""
