//! Every probe a check may name, by name.

use crate::probes::spec::ProbeSpec;

pub static SPECS: &[&ProbeSpec] = &[
    &crate::probes::ldap::spec::ROOT_DSE,
    &crate::probes::ldap::spec::DIRECTORY,
    &crate::probes::ldap::spec::DC,
    &crate::probes::ldap::spec::COMPUTERS,
    &crate::probes::ldap::spec::OS_RELEASE,
    &crate::probes::ldap::spec::FOREST,
    &crate::probes::ldap::spec::DOMAIN,
    &crate::probes::ldap::spec::SYNC_OBJECTS,
    &crate::probes::ldap::spec::SYNC_RULE,
    &crate::probes::dns::spec::SRV,
    &crate::probes::dns::spec::CNAME,
    &crate::probes::dns::spec::M365,
    &crate::probes::dns::spec::ADFS_NAME,
    &crate::probes::tcp::spec::SPEC,
    &crate::probes::https::spec::SPEC,
    &crate::probes::configmgr::spec::AD_SITES,
    &crate::probes::configmgr::spec::MP_LIST,
    &crate::probes::configmgr::spec::SITE,
    &crate::probes::adfs::spec::METADATA,
    &crate::probes::adfs::spec::SAN,
    &crate::probes::ldap::spec::SERVICES,
    &crate::probes::ldap::spec::SERVICE_HOST,
];

pub fn spec(name: &str) -> Option<&'static ProbeSpec> {
    SPECS.iter().copied().find(|s| s.name == name)
}

pub fn names() -> Vec<&'static str> {
    SPECS.iter().map(|s| s.name).collect()
}
