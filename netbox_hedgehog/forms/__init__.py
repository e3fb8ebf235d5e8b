from .fabric import *
from .mirror import *
from .runs import *
