"""The packages the wheel holds: every package under engine/ and app/, found by setuptools
(sub-packages too), and resources/ installed as ``digitlab_resources``. Everything else is in
pyproject.toml."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["engine", "engine.*", "app", "app.*"]) + ["digitlab_resources"],
      package_dir={"digitlab_resources": "resources"})
