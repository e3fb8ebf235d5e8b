from .connection import *
from .fabric import *
from .mirror import *
from .runs import *
from .scheduler import *
