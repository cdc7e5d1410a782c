"""Boot configuration shared by every cloud."""
