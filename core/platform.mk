# platform.mk: added by the platform component
