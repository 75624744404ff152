"""``ase-lcom list``: calculators, predictors, generators and the default model."""

from __future__ import annotations

from ase_lcom.cli import main
from ase_lcom.models.bundle import LCOMModel


def test_list_shows_calculators_predictors_generators_and_the_default_model(toy_plugins, capsys, monkeypatch):
    monkeypatch.delenv("ASE_LCOM_MODEL", raising=False)
    assert main(["list"]) == 0
    stdout = capsys.readouterr().out
    sections = [line for line in stdout.splitlines() if not line.startswith(" ")]
    assert [line.split(":")[0] for line in sections] == ["calculators", "predictors", "generators", "default model"]
    for name in ("chgnet", "m3gnet", "gpaw", "emt", "lcom", "ras"):
        assert f"  {name} " in stdout
    assert "  toy        toy_plugins:ToyPredictor  toy-plugins 1.0" in stdout
    assert "  toygen     toy_plugins:ToyGenerator  toy-plugins 1.0" in stdout
    assert sections[-1].startswith(f"default model: {LCOMModel.load().name} (")


def test_list_says_when_the_default_model_is_unavailable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASE_LCOM_MODEL", str(tmp_path / "gone.pt"))
    assert main(["list"]) == 0
    assert f"default model: {tmp_path / 'gone.pt'} unavailable (LCOM model weights not found" in capsys.readouterr().out
