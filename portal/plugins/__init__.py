"""Plugin system: the hook contract (hookspecs), the manager and plugin state."""
import pluggy

hookimpl = pluggy.HookimplMarker("portal")
hookspec = pluggy.HookspecMarker("portal")
