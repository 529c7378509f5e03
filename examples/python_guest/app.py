"""A guest component written in Python: ``componentize-py -d wit -w hello componentize app -o
app.wasm`` builds it (CPython compiled to wasm plus this module, about 18 MB)."""

import wit_world


class WitWorld(wit_world.WitWorld):
    def greet(self, name: str) -> str:
        return f"Hello, {name}!"
