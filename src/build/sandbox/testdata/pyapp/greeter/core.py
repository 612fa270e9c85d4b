import tinylib

GREETING = {"en": "hello", "fr": "bonjour"}
LANGS = frozenset({"en", "fr", "de", "es", "it"})


def greet(name: str, lang: str = "en") -> str:
    return f"{GREETING.get(lang, 'hello')}, {tinylib.shout(name)}"
