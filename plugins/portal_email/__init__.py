"""E-mail: inbox messages also sent by e-mail, immediately or in a daily digest, as each member chooses."""
