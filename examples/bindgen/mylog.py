class Log:
    def __init__(self, prefix: str) -> None:
        self.prefix, self.lines = prefix, list[str]()
