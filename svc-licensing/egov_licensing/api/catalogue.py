"""The license-type catalogue (public: anyone may read what a license requires and costs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from egov_licensing.api.deps import uows
from egov_licensing.api.schemas import LicenseTypeOut
from egov_licensing.service_layer import services
from egov_licensing.service_layer.services import UowFactory
from meshkit.problems import PROBLEM_RESPONSES

router = APIRouter(tags=["license types"], responses=PROBLEM_RESPONSES)


@router.get(
    "/license-types",
    response_model=list[LicenseTypeOut],
    summary="The catalogue of license types (public)",
)
async def list_license_types(make: Annotated[UowFactory, Depends(uows)]) -> list[LicenseTypeOut]:
    return [LicenseTypeOut.of(t) for t in await services.license_types(make())]


@router.get(
    "/license-types/{code}",
    response_model=LicenseTypeOut,
    summary="One license type: names, authority, requirements, duty, term, validity (public)",
)
async def get_license_type(
    code: Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")],
    make: Annotated[UowFactory, Depends(uows)],
) -> LicenseTypeOut:
    return LicenseTypeOut.of(await services.license_type(make(), code))
