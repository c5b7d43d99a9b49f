from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "safeclass.schools"
    label = "schools"

    def ready(self) -> None:
        # The policy core (safeclass.policy) is plain Python with no Django, so it cannot
        # choose a language: it writes its messages through safeclass.policy.words, English
        # until a translator is installed. Here, at the edge, Django's own functions take
        # over, so the reasons a lesson breaks a rule, the lesson times and the rule titles
        # come out in the language active for the request (docs/translation.md). Installing
        # them again (ready() may run more than once) changes nothing.
        from django.utils.translation import gettext, ngettext, pgettext

        from safeclass.policy.words import Translator, install_translator

        install_translator(Translator(gettext=gettext, ngettext=ngettext, pgettext=pgettext))
