"""pyproject.toml and environment.yml must pin the same packages the same way."""

from __future__ import annotations

import re
import tomllib

import yaml


def _normalise(req: str) -> tuple[str, str]:
    req = req.split(";")[0].strip()
    match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req)
    assert match, f"cannot parse requirement {req!r}"
    name = re.sub(r"[-_.]+", "-", match.group(1).lower())
    spec = ",".join(sorted(part.strip() for part in match.group(2).split(",") if part.strip()))
    return name, spec


def _pyproject_requirements(repo_root) -> dict[str, str]:
    data = tomllib.loads((repo_root / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        reqs.extend(extra)
    pins = dict(_normalise(r) for r in reqs)
    assert len(pins) == len(reqs), "a package is listed twice in pyproject.toml"
    return pins


def _environment_requirements(repo_root) -> tuple[dict, list]:
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    conda_deps = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    pip = [r for r in pip_sections[0] if not r.startswith("-e")]
    return dict(_normalise(r) for r in pip), conda_deps


def test_environment_yml_pins_match_pyproject(repo_root):
    project = _pyproject_requirements(repo_root)
    env, _ = _environment_requirements(repo_root)
    missing = sorted(set(project) - set(env))
    extra = sorted(set(env) - set(project))
    assert not missing, f"in pyproject.toml but not in environment.yml: {missing}"
    assert not extra, f"in environment.yml but not in pyproject.toml: {extra}"
    differ = {name: (project[name], env[name]) for name in project if project[name] != env[name]}
    assert not differ, f"different pins (pyproject, environment.yml): {differ}"


def test_torch_and_torchaudio_pinned_as_a_pair(repo_root):
    project = _pyproject_requirements(repo_root)
    assert project["torch"] == "==2.11.0"
    assert project["torchaudio"] == "==2.11.0"
    assert project["jupyter-book"] == "<2,>=1.0.4"


def test_environment_yml_allows_the_supported_pythons_and_installs_the_package(repo_root):
    requires = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["requires-python"]
    assert _normalise(f"python{requires}") == ("python", "<3.14,>=3.11")  # 3.11, 3.12 and 3.13
    _, conda = _environment_requirements(repo_root)
    pythons = [_normalise(d) for d in conda if re.match(r"^python\b", d)]
    assert pythons == [("python", "<3.14,>=3.11")], f"environment.yml's python {pythons} is not {requires}"
    text = (repo_root / "environment.yml").read_text()
    assert "- -e ." in text


def test_the_makefile_offers_the_interpreters_requires_python_allows(repo_root):
    """`make` tries python3.13, 3.12, 3.11 (newest first): the same set as requires-python."""
    text = (repo_root / "Makefile").read_text()
    tried = re.search(r"^SUPPORTED_PYTHONS := (.+)$", text, re.M)
    assert tried, "the Makefile has no SUPPORTED_PYTHONS line"
    assert tried.group(1).split() == ["3.13", "3.12", "3.11"]


def test_jupyterlab_is_installed_for_the_notebooks():
    """`make lab` needs JupyterLab in the environment `make` installs (the `book` extra)."""
    from importlib.metadata import version

    assert int(version("jupyterlab").split(".")[0]) == 4


def test_installed_versions_match_the_pins():
    import torch
    import torchaudio

    assert torch.__version__.split("+")[0] == "2.11.0"
    assert torchaudio.__version__.split("+")[0] == "2.11.0"
