"""In-app inbox; other channels (SMS, e-mail, WeChat) come from plugins."""
