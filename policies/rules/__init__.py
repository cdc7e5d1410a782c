"""One module per concern; each exports ``RULES``, covering AWS, Azure and GCP."""
