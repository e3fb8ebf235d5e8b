from .fabric import *
from .runs import *
from .scheduling import *
