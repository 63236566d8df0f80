"""Language detection: the four lab languages, determinism, and "unknown" when there is nothing to judge."""

from __future__ import annotations

import pytest

from pipelines.extract.language import detect_language

SENTENCES = {
    "en": "The vendor ships every order within two days. Packaging is discreet and tracking is included. "
    "Contact me before you place a large order.",
    "fr": "Le vendeur expédie chaque commande sous deux jours. L'emballage est discret et le suivi est inclus. "
    "Contactez-moi avant de passer une grosse commande.",
    "nl": "De verkoper verstuurt elke bestelling binnen twee dagen. De verpakking is discreet en er is een "
    "volgnummer. Neem contact op voordat je een grote bestelling plaatst.",
    "de": "Der Verkäufer verschickt jede Bestellung innerhalb von zwei Tagen. Die Verpackung ist diskret und die "
    "Sendungsverfolgung ist dabei. Schreib mir, bevor du eine große Bestellung aufgibst.",
}


@pytest.mark.parametrize("code", list(SENTENCES))
def test_languages(code: str) -> None:
    result = detect_language(SENTENCES[code])
    assert result["code"] == code
    assert result["probability"] > 0.9


def test_deterministic() -> None:
    mixed = SENTENCES["en"][:60] + " " + SENTENCES["nl"][:60]
    assert len({str(detect_language(mixed)) for _ in range(5)}) == 1


@pytest.mark.parametrize("text", ["", "12345 67890 !!!", "ok", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "🙂" * 50])
def test_unknown_when_too_little(text: str) -> None:
    assert detect_language(text) == {"code": "unknown", "probability": 0.0}


def test_only_the_sample_is_read() -> None:
    text = SENTENCES["de"] + " " + SENTENCES["fr"] * 40
    assert detect_language(text, sample_size=len(SENTENCES["de"]))["code"] == "de"
    assert detect_language(text, sample_size=20000)["code"] == "fr"


def test_fast_ngram_extraction_matches_langdetect() -> None:
    from langdetect import detector_factory

    from pipelines.extract.language import _Detector, language_sample, load_profiles

    detector_factory.init_factory()  # langdetect's own profiles, every n-gram's probabilities computed up front
    samples = [
        *SENTENCES.values(),
        "MiXeD CAPS Words AND ÉCOLE über straße   with   spaces http://example.org/x mail@example.org",
        "Ελληνικά και русский текст",
        "Продавец отправляет заказы быстро, ok [sic] `quote` and Tiếng Việt có dấu",  # non-Latin majority
        "x y  z",
    ]
    for text in samples:
        reference = detector_factory._factory.create()
        reference.append(language_sample(text))
        reference_ranked = [(lang.lang, lang.prob) for lang in reference.get_probabilities()]
        for factory in (detector_factory._factory, load_profiles()):  # with langdetect's profiles, and ours (lazy)
            ours = _Detector(factory)
            ours.append(language_sample(text))
            assert ours._extract_ngrams() == reference._extract_ngrams()
            assert [(lang.lang, lang.prob) for lang in ours.get_probabilities()] == reference_ranked  # same floats


def test_lazy_profiles_are_langdetects_profiles() -> None:
    """Every n-gram's probabilities, computed on demand, are the floats langdetect computes up front, for the
    languages in the same order (the order decides ties)."""
    from langdetect import detector_factory

    from pipelines.extract.language import Profiles

    detector_factory.init_factory()
    reference = detector_factory._factory
    profiles = Profiles()
    assert profiles.langlist == reference.langlist
    assert profiles.grams == set(reference.word_lang_prob_map)
    languages = len(reference.langlist)
    for gram, probabilities in reference.word_lang_prob_map.items():
        assert profiles.word_lang_prob_map[gram] == probabilities[:languages], gram
    assert profiles.seed == 0
