"""appstack components: one cloud-neutral interface, one implementation per cloud.

- `config/`     the stack config model (pydantic), environment profiles and loader
- `interfaces`  the cloud-neutral component args and the output names every cloud exposes
- `bootstrap/`  cloud-init user data shared by every cloud (sshd hardening, app service)
- `aws/`, `azure/`, `gcp/`  one package per cloud; only the selected cloud's package (and so
  its provider SDK) is ever imported
- `stack`       picks the selected cloud's `AppStack`
"""
