"""Images: reading product photos, our own image tower (trained into the text encoder's space), colour from pixels."""
