"""appstack policy pack: rules that keep insecure infrastructure from reaching `pulumi up`.

The pack is standalone: it never imports the program (`components/`). `pack.py` lists the rules;
`__main__.py` only assembles the `PolicyPack` the Pulumi CLI talks to.
"""
