from .fabric import *
from .runs import *
