"""An example SMS delivery channel: shows how a provider is wired into the portal's notifications."""
