"""The demo accounts of a local mesh, as ``make run`` prints them and the README lists them.

Read from identity's dev seed (``egov_identity.seed``) when called, so every account the seed
has — operators with their roles included — is shown; passwords come from the machine's
``<data dir>/dev-secrets.json`` (generated per machine, never committed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from meshkit.devsecrets import dev_secret

#: the agency client shown (every service has one: client id = its code)
DEMO_CLIENT = "registry"


@dataclass(frozen=True)
class Account:
    kind: str  # citizen | operator | client
    login: str  # IIN, or the client id
    secret: str  # password, or the client secret
    name: str
    purpose: str
    phone: str | None = None
    roles: tuple[str, ...] = ()


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def demo_accounts(data_dir: Path, *, today: date | None = None) -> list[Account]:
    from egov_identity.seed import DEMO_PERSONS

    today = today or date.today()
    by_iin = {p.iin: p for p in DEMO_PERSONS}
    out: list[Account] = []
    for p in DEMO_PERSONS:
        name = " ".join(x for x in (p.surname, p.given_name, p.patronymic) if x)
        password = dev_secret(getattr(p, "password_secret", "demo-citizen-password"), data_dir)
        roles = tuple(sorted(getattr(p, "roles", ()) or ()))
        if p.role == "operator":
            purpose = "operator: " + (", ".join(roles) if roles else "operator")
            if not roles or "centre-operator" in roles:
                purpose += " — the public service centre page /centre"
            out.append(Account("operator", p.iin, password, name, purpose, p.phone, roles))
            continue
        children = [c for c in DEMO_PERSONS if p.iin in (c.mother_iin, c.father_iin)]
        if children:
            parent = "mother" if p.sex == "female" else "father"
            kids = ", ".join(f"{c.given_name} ({c.birth_date.year})" for c in children)
            purpose = f"{parent} of {kids}: birth of a child, family certificates, allowances"
        elif _age(p.birth_date, today) < 18:
            parents = [by_iin[i].given_name for i in (p.mother_iin, p.father_iin) if i in by_iin]
            purpose = f"a minor, child of {' and '.join(parents)}: the parents act for the child"
        else:
            purpose = "an adult without family on record: open a business, licences, certificates"
        out.append(Account("citizen", p.iin, password, name, purpose, p.phone))
    out.append(
        Account(
            "client",
            DEMO_CLIENT,
            dev_secret(f"client:{DEMO_CLIENT}", data_dir),
            f"the {DEMO_CLIENT} agency's OAuth client",
            "client_credentials at identity's /oauth/token, then calls through the gateway",
        )
    )
    return out


def render(accounts: list[Account], *, portal: str, identity: str, data_dir: Path) -> str:
    """The block ``make run`` prints once the mesh is ready."""
    width = max(len(a.name) for a in accounts if a.kind != "client")
    lines = [
        f"Demo accounts (passwords are generated per machine: {data_dir / 'dev-secrets.json'})",
        f"  Sign in at {portal}/login — in dev mode the page shows the one-time code it 'sent'.",
        "  Citizens (IIN / password):",
    ]
    for a in accounts:
        if a.kind == "citizen":
            lines.append(f"    {a.login}  {a.secret}  {a.name:<{width}}  {a.purpose}")
    lines.append("  Operators (IIN / password):")
    for a in accounts:
        if a.kind == "operator":
            lines.append(f"    {a.login}  {a.secret}  {a.name:<{width}}  {a.purpose}")
    for a in accounts:
        if a.kind == "client":
            lines.append(f"  Agency client: client_id={a.login}  client_secret={a.secret}")
            lines.append(
                f"    curl -u {a.login}:{a.secret} -d grant_type=client_credentials "
                f"{identity}/oauth/token"
            )
    return "\n".join(lines) + "\n"
