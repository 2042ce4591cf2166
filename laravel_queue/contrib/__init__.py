"""Integrations with the web frameworks laravel_queue runs in (Django)."""
