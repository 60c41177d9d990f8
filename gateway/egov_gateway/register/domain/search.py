"""Finding public services by what people type (pure Python: no SQL, no HTTP).

A service is *indexed* as one line of terms (:func:`index_text`): every word of its names and
descriptions in the three languages and of its code, each folded (:func:`fold`: case, ё→е, the
Kazakh letters onto their Russian neighbours — ә→а, і→и, қ→к … — since many people type Kazakh
on a Russian layout) and stemmed in its own language, tagged ``n:`` (names, code) or ``d:``
(descriptions): ``" n:справк n:рожден d:выписк …"``.

Stemming is light on purpose (the catalogue is short; recall matters more than precision):

- **Russian and English**: the Snowball stemmers (``snowballstemmer``): лицензии → лиценз,
  births → birth.
- **Kazakh**: Snowball has none. Kazakh is agglutinative and its endings are regular, so
  :func:`kk_stem` strips case, possessive and plural endings from the end of a word (longest
  first, at most three, never leaving fewer than three letters) and undoes the voicing of a
  final consonant that an ending causes (куәлігін → куалиг → куалик, кітабы → китап):
  лицензияның → лицензия, анықтамасына → аныктама. Derivational suffixes (-лық, -шы) are
  kept: they make other words. It works on the folded word (ның and нын alike), so a word
  typed without the Kazakh letters has the same stem.

A query (:func:`parse_query`) is words; each is stemmed as Russian *and* Kazakh when its
language cannot be told (Cyrillic without Kazakh letters), as Kazakh when it has Kazakh
letters, as English when Latin. A stem matches a term it begins (prefix: "лиценз" finds
"лицензия", and a word being typed finds its word); a stem shorter than three letters must be
the whole term. A word no term begins is corrected to the nearest terms of the catalogue
(Damerau–Levenshtein distance 1 from five letters, 2 from eight: "лицензя", "пасспорт").

Synonyms are data (``register/search.yaml``, :class:`SearchVocabulary`): a *synonym* group's
words find what any of them finds (licence/license/лицензия; ИИН/ЖСН/IIN); a *concept*'s words
find listed services that no name says (паспорт, удостоверение личности → the identity
services). A synonym or concept may be a phrase: the longest one the query holds wins.

The query is a list of clauses, one per word or phrase; a clause is met by any of its
alternatives (every term of one alternative found) or by being one of its concept's services.
Services that meet the most clauses are the answer, best first (the adapter scores them:
:data:`WEIGHTS`).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

if TYPE_CHECKING:
    from egov_gateway.register.domain.model import PublicService

#: bump when :func:`index_text` changes: the register re-indexes its services at start
INDEX_VERSION = 2
#: how much a clause is worth by where it was met (summed over clauses, then best first)
WEIGHTS = {"concept": 3, "name_word": 3, "name_prefix": 2, "description": 1}
#: at most this many clauses are considered (a pasted paragraph is not a query)
MAX_CLAUSES = 8
MIN_PREFIX = 3  # a shorter stem must be a whole term

_WORD = re.compile(r"[^\W_]+")
_KAZAKH_LETTERS = frozenset("әғқңөұүһі")
_FOLD = str.maketrans("ёәғқңөұүһі", "еагкноуухи")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")
_LATIN = re.compile(r"[a-z]")

# Kazakh endings, stripped longest first (case, then possessive, then plural, in any order)
_KK_ENDINGS: tuple[str, ...] = tuple(
    sorted(
        {
            # genitive, accusative, dative, locative, ablative, instrumental
            *["ның", "нің", "дың", "дің", "тың", "тің"],
            *["ны", "ні", "ды", "ді", "ты", "ті", "ын", "ін", "н"],
            *["ға", "ге", "қа", "ке", "на", "не"],
            *["да", "де", "та", "те", "нда", "нде"],
            *["дан", "ден", "тан", "тен", "нан", "нен"],
            *["мен", "бен", "пен"],
            # the -ғы/-гі of place and time ("ГБД-дағы")
            *["дағы", "дегі", "тағы", "тегі", "ндағы", "ндегі"],
            # possessive
            *["ым", "ім", "м", "ың", "ің", "ң", "сы", "сі", "ы", "і"],
            *["ымыз", "іміз", "мыз", "міз", "ыңыз", "іңіз", "ңыз", "ңіз"],
            # plural
            *["лар", "лер", "дар", "дер", "тар", "тер"],
        },
        key=lambda e: (-len(e), e),
    )
)
# the same endings as typed without the Kazakh letters (ның → нын): stemming runs on folded words
_KK_FOLDED: tuple[str, ...] = tuple(
    sorted(
        {e.translate(str.maketrans("әғқңөұүһі", "агкноуухи")) for e in _KK_ENDINGS},
        key=lambda e: (-len(e), e),
    )
)
_VOICED = {"г": "к", "б": "п"}

_RU = snowballstemmer.stemmer("russian")
_EN = snowballstemmer.stemmer("english")


# -- words -------------------------------------------------------------------------------------
def fold(text: str) -> str:
    """Case-fold and fold ё→е and the Kazakh letters onto Russian ones (ә→а, і→и, қ→к …)."""
    return unicodedata.normalize("NFC", text).casefold().translate(_FOLD)


def words(text: str) -> list[str]:
    """The words of a text, lower-case, a Latin ``i`` typed inside a Cyrillic word made the
    Kazakh ``і`` (a common substitute)."""
    out = []
    for w in _WORD.findall(unicodedata.normalize("NFC", text).casefold()):
        if "i" in w and _CYRILLIC.search(w):
            w = w.replace("i", "і")
        out.append(w)
    return out


def kk_stem(word: str) -> str:
    """A light Kazakh stem, folded: case/possessive/plural endings off (see the module docs)."""
    word = fold(word)
    stem = word
    for _ in range(3):
        for ending in _KK_FOLDED:
            if stem.endswith(ending) and len(stem) - len(ending) >= 3:
                stem = stem[: -len(ending)]
                break
        else:
            break
    if stem != word and stem[-1] in _VOICED:
        stem = stem[:-1] + _VOICED[stem[-1]]
    return stem


@lru_cache(maxsize=4096)
def ru_stem(word: str) -> str:
    return str(_RU.stemWord(word.replace("ё", "е")))


@lru_cache(maxsize=4096)
def en_stem(word: str) -> str:
    return str(_EN.stemWord(word))


def stem_in(lang: str, word: str) -> str:
    """The folded stem of a word of a known language (kk, ru, en)."""
    if lang == "kk":
        return fold(kk_stem(word))
    if lang == "ru":
        return fold(ru_stem(word))
    return fold(en_stem(word))


def stems(word: str) -> frozenset[str]:
    """The folded stems a word of unknown language may have (see the module docs)."""
    if word.isdigit() or not (_CYRILLIC.search(word) or _LATIN.search(word)):
        return frozenset({fold(word)})
    if _LATIN.search(word) and not _CYRILLIC.search(word):
        return frozenset({fold(en_stem(word))})
    if _KAZAKH_LETTERS & set(word):
        return frozenset({fold(kk_stem(word))})
    return frozenset({fold(ru_stem(word)), fold(kk_stem(word))})


# -- the index ---------------------------------------------------------------------------------
def index_text(service: PublicService) -> str:
    """The service's terms as stored: ``" n:<stem> … d:<stem> … "`` (each term once)."""
    names: list[str] = []
    for lang in ("kk", "ru", "en"):
        names += [stem_in(lang, w) for w in words(service.name.in_lang(lang))]
    names += [stem_in("en", w) for w in words(service.code.replace("-", " "))]
    described: list[str] = []
    for lang in ("kk", "ru", "en"):
        described += [stem_in(lang, w) for w in words(service.description.in_lang(lang))]
    name_set = dict.fromkeys(names)
    desc_set = dict.fromkeys(d for d in described if d not in name_set)
    return " " + " ".join([*(f"n:{t}" for t in name_set), *(f"d:{t}" for t in desc_set)]) + " "


def index_terms(text: str) -> set[str]:
    """The bare terms of an :func:`index_text` line."""
    return {t.partition(":")[2] for t in text.split()}


# -- synonyms and concepts (data) --------------------------------------------------------------
Phrase = tuple[frozenset[str], ...]


def phrase(text: str, stopwords: frozenset[str] = frozenset()) -> Phrase:
    """A word or phrase of the data as the query's terms (its stop words left out)."""
    kept = [w for w in words(text) if fold(w) not in stopwords] or words(text)
    return tuple(stems(w) for w in kept)


@dataclass(frozen=True)
class Concept:
    """Words that name what no service name says; they find ``services``."""

    words: tuple[str, ...]
    services: tuple[str, ...]


@dataclass(frozen=True)
class SearchVocabulary:
    """The search's data (``register/search.yaml``): stop words, synonyms, concepts."""

    stopwords: frozenset[str] = frozenset()
    synonyms: tuple[tuple[str, ...], ...] = ()
    concepts: tuple[Concept, ...] = ()
    _entries: list[tuple[Phrase, int, int]] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        # (phrase, kind 0 = synonym group / 1 = concept, index), longest phrases first
        stop = self.stopwords
        entries = [(phrase(w, stop), 0, i) for i, g in enumerate(self.synonyms) for w in g]
        entries += [(phrase(w, stop), 1, i) for i, c in enumerate(self.concepts) for w in c.words]
        self._entries.extend(sorted((e for e in entries if e[0]), key=lambda e: -len(e[0])))

    def terms(self) -> set[str]:
        """Every stem the data knows (typo correction may land on them)."""
        return {s for p, _, _ in self._entries for forms in p for s in forms}

    def entries(self) -> list[tuple[Phrase, int, int]]:
        return self._entries


# -- queries -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alternative:
    """Met when every term is found (each by any of its forms)."""

    terms: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Clause:
    """One word (or phrase) of the query: met by any alternative, or by being a listed service."""

    text: str
    alternatives: tuple[Alternative, ...]
    services: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SearchQuery:
    clauses: tuple[Clause, ...]

    def __bool__(self) -> bool:
        return bool(self.clauses)


class Catalogue:
    """The terms the catalogue holds (from the services' index lines) and the search data:
    what typo correction may land on."""

    def __init__(self, index_lines: Iterable[str], vocabulary: SearchVocabulary) -> None:
        terms: set[str] = set()
        for line in index_lines:
            terms |= index_terms(line)
        terms |= vocabulary.terms()
        self.vocabulary = vocabulary
        self._sorted = sorted(terms)

    def begins_a_term(self, stem: str) -> bool:
        i = bisect_left(self._sorted, stem)
        if len(stem) < MIN_PREFIX:
            return i < len(self._sorted) and self._sorted[i] == stem
        return i < len(self._sorted) and self._sorted[i].startswith(stem)

    def nearest(self, stem: str) -> frozenset[str]:
        """Terms within the typo distance of ``stem`` (none below five letters: a short word
        is one letter away from too many others — неке/жеке)."""
        if len(stem) < 5:
            return frozenset()
        limit = 1 if len(stem) < 8 else 2
        found = process.extract(
            stem,
            self._sorted,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=limit,
            limit=5,
        )
        if not found:
            return frozenset()
        best = min(d for _, d, _ in found)
        return frozenset(term for term, d, _ in found if d == best)


def _meets(query_forms: frozenset[str], entry_forms: frozenset[str]) -> bool:
    return any(
        q == e or (len(q) >= 4 and e.startswith(q)) for q in query_forms for e in entry_forms
    )


def _span_at(tokens: Sequence[frozenset[str]], i: int, entry: Phrase) -> bool:
    if i + len(entry) > len(tokens):
        return False
    return all(_meets(tokens[i + j], entry[j]) for j in range(len(entry)))


def parse_query(q: str, catalogue: Catalogue) -> SearchQuery:
    """Words → clauses (corrected, grouped into the data's phrases, expanded by synonyms)."""
    vocab = catalogue.vocabulary
    raw = words(q)
    kept = [w for w in raw if fold(w) not in vocab.stopwords] or raw
    texts: list[str] = []
    tokens: list[frozenset[str]] = []
    for w in kept:
        forms = stems(w)
        if not any(catalogue.begins_a_term(f) for f in forms):
            forms = frozenset().union(*(catalogue.nearest(f) for f in forms)) or forms
        texts.append(w)
        tokens.append(forms)
    clauses: list[Clause] = []
    i = 0
    while i < len(tokens) and len(clauses) < MAX_CLAUSES:
        width = 1
        groups: set[int] = set()
        concepts: set[int] = set()
        for entry, kind, index in vocab.entries():
            if len(entry) < width or not _span_at(tokens, i, entry):
                continue
            width = len(entry)  # entries come longest first: later ones are as long or shorter
            (concepts if kind else groups).add(index)
        own = Alternative(tuple(tokens[i : i + width]))
        alternatives = dict.fromkeys([own])
        for g in sorted(groups):
            for w in vocab.synonyms[g]:
                alternatives[Alternative(phrase(w, vocab.stopwords))] = None
        services = frozenset(s for c in concepts for s in vocab.concepts[c].services)
        clauses.append(Clause(" ".join(texts[i : i + width]), tuple(alternatives), services))
        i += width
    return SearchQuery(tuple(clauses))


def vocabulary_of(
    stopwords: Mapping[str, Iterable[str]],
    synonyms: Iterable[Iterable[str]],
    concepts: Iterable[tuple[Iterable[str], Iterable[str]]],
) -> SearchVocabulary:
    return SearchVocabulary(
        stopwords=frozenset(fold(w) for ws in stopwords.values() for w in ws),
        synonyms=tuple(tuple(g) for g in synonyms),
        concepts=tuple(Concept(tuple(w), tuple(s)) for w, s in concepts),
    )
