"""pytest plugin: runs openstacksdk's own key pair functional tests, unmodified, on novakeys.

Those tests live in the installed package (openstack/tests/functional/...). Their shared
setUp probes for a whole DevStack, which a key pair emulator is not. This plugin replaces
only those probes, never a key pair call or assertion:

* BaseFunctionalTest._pick_flavor lists /v2.1/flavors/detail and fails without a flavor
  that has a disk. novakeys serves no flavors API (key pairs only), so no flavor is picked,
  as the base class itself does on a cloud without compute; no key pair test uses it.
* BaseFunctionalTest._pick_image: novakeys has no image service; likewise none (the base
  class already returns None when the catalog has no image entry).

The third probe, BaseComputeTest.setUp's skip unless block-storage v3 is in the catalog,
is met by run.sh's upstream clouds.yaml (block_storage_endpoint_override to a closed
port): the volume proxies it builds are never called by the key pair tests.
"""

from openstack.tests.functional import base as functional_base

functional_base.BaseFunctionalTest._pick_flavor = lambda self: None
functional_base.BaseFunctionalTest._pick_image = lambda self: None
