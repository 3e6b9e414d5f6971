import Inspect
