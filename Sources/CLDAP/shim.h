#ifndef WRITEBACKD_CLDAP_SHIM_H
#define WRITEBACKD_CLDAP_SHIM_H
#include <lber.h>
#include <ldap.h>
#endif
