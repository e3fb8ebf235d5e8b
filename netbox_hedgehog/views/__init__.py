from .fabric import *
from .runs import *
from .scheduler import *
