"""The catalogue search's data, ``shared/meshkit/reference/register/search.yaml``, validated here.

Stop words per language, synonym groups and concepts (words → services no name says; see
:mod:`egov_gateway.register.domain.search`). Strict like the rest of the register's data: a
malformed file, a blank or repeated word, a group of one, or a concept naming a service the
register's data does not define stops the gateway at start (:class:`RegisterDataError`, naming
the file and the field).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from egov_gateway.register.domain.search import SearchVocabulary, fold, vocabulary_of, words
from egov_gateway.register.seed_data import RegisterDataError, _parse, _validate, register_data

FILE = "search.yaml"

Word = Annotated[str, Field(min_length=1, max_length=100)]
ServiceCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,49}$")]


def _folded(value: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for w in value:
        key = " ".join(fold(x) for x in words(w))
        if not key:
            raise ValueError(f"{w!r} has no letters or digits")
        if key in seen:
            raise ValueError(f"{w!r} is listed twice (as {seen[key]!r})")
        seen[key] = w
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Stopwords(_Strict):
    kk: list[Word] = []
    ru: list[Word] = []
    en: list[Word] = []

    _once = field_validator("kk", "ru", "en")(_folded)


class ConceptData(_Strict):
    words: list[Word] = Field(min_length=1)
    services: list[ServiceCode] = Field(min_length=1)

    _once = field_validator("words")(_folded)


class SearchFile(_Strict):
    owner: Literal["gateway"]
    stopwords: Stopwords = Stopwords()
    synonyms: list[Annotated[list[Word], Field(min_length=2)]] = []
    concepts: list[ConceptData] = []

    @field_validator("synonyms")
    @classmethod
    def _groups(cls, value: list[list[str]]) -> list[list[str]]:
        for i, group in enumerate(value):
            try:
                _folded(group)
            except ValueError as exc:
                raise ValueError(f"{i}: {exc}") from None
        return value

    def vocabulary(self) -> SearchVocabulary:
        return vocabulary_of(
            self.stopwords.model_dump(),
            self.synonyms,
            [(c.words, c.services) for c in self.concepts],
        )


def load_search_data(
    directory: Traversable | None = None, services: set[str] | None = None
) -> SearchVocabulary:
    """Read and validate ``search.yaml`` of ``directory`` (default: meshkit's reference data);
    a concept may name only ``services`` (default: every service of the register's data)."""
    directory = directory or files("meshkit.reference").joinpath("register")
    data = _validate(SearchFile, _parse(directory, FILE), FILE)
    if services is None:
        services = {s.code for s in register_data().simple_services(1)} | {
            s.code for s in register_data().composite_services(1)
        }
    for i, concept in enumerate(data.concepts):
        unknown = sorted(set(concept.services) - services)
        if unknown:
            raise RegisterDataError(
                f"register/{FILE}: concepts.{i}.services: no such service {unknown}"
            )
    return data.vocabulary()


@cache
def search_vocabulary() -> SearchVocabulary:
    """The search's data, read and validated once."""
    return load_search_data()
