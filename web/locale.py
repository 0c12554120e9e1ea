"""How a request's language is chosen, for the pages and the API alike (the texts are core/i18n.py's).

Pages: ``?lang=`` (kept in a cookie so the choice sticks), that cookie, the browser's ``Accept-Language``,
and Chinese. The API (``/api/``): ``Accept-Language``, else the contract's English.
"""
from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, refresh

from core.i18n import DEFAULT_LANGUAGE, HTML_LANG, LANGUAGE_NAMES, LANGUAGES, LOCALES, _known, language, local_datetime

API_PREFIX = "/api/"
API_DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()


def chosen_language() -> str | None:
    """The language the request asked for with ``?lang=`` (the switch), if it is one we speak."""
    return _known(request.args.get("lang")) if has_request_context() else None


def select_language() -> str:
    """The language of this request (see the module's docstring)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    forced = g.get("language")
    if forced:
        return forced
    if request.path.startswith(API_PREFIX):
        return request.accept_languages.best_match(LANGUAGES) or API_DEFAULT_LANGUAGE
    return (chosen_language() or _known(request.cookies.get(LANGUAGE_COOKIE))
            or request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE)


def _select_locale() -> str:
    return LOCALES[select_language()]


def _select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def remember_language(response):
    """After a request that chose a language with ``?lang=``, keep it in a cookie so the choice sticks."""
    chosen = chosen_language()
    if chosen and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_MAX_AGE, samesite="Lax",
                            secure=request.is_secure, httponly=True)
    return response


def init_app(app: Flask) -> None:
    """Bind Babel with these selectors; templates get ``_``, ``language()``, ``html_lang()`` and ``|local``."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALES[DEFAULT_LANGUAGE])
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config.get("TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)
    # Babel caches the locale on the application context; a request inside a longer-lived context (a test, a
    # job calling a view) must choose its own.
    app.before_request(refresh)
    app.after_request(remember_language)
    app.jinja_env.globals.update(language=language, html_lang=lambda: HTML_LANG[language()],
                                 language_names=LANGUAGE_NAMES, languages=LANGUAGES)
    app.jinja_env.filters["local"] = local_datetime
