dnl PIE / phpize build of kafkars.so: `phpize && ./configure && make && make install`.
dnl
dnl kafkars is Rust (ext-php-rs), so there is no C to compile: this shim finds cargo,
dnl declares the module, and adds make rules that run `cargo build -p kafkars-php` against
dnl the PHP that phpize belongs to (via PHP_CONFIG) and copy the library to
dnl modules/kafkars.so, where phpize's own `make install` picks it up.
dnl
dnl Environment: KAFKARS_CARGO_PROFILE=release (default) or debug; CARGO_TARGET_DIR to share
dnl a build cache; CARGO to use a specific cargo.

PHP_ARG_ENABLE([kafkars],
  [whether to build kafkars (php-rdkafka compatible Kafka client)],
  [AS_HELP_STRING([--enable-kafkars], [Build kafkars.so with cargo (module name rdkafka)])],
  [yes])

if test "$PHP_KAFKARS" != "no"; then
  AC_PATH_PROG([CARGO], [cargo], [no], [$PATH:$HOME/.cargo/bin])
  if test "$CARGO" = "no"; then
    AC_MSG_ERROR([cargo not found: kafkars is written in Rust, install it with https://rustup.rs])
  fi

  AC_MSG_CHECKING([for the cargo profile])
  KAFKARS_PROFILE="${KAFKARS_CARGO_PROFILE:-release}"
  case "$KAFKARS_PROFILE" in
    release) KAFKARS_PROFILE_DIR=release ;;
    debug|dev) KAFKARS_PROFILE=dev; KAFKARS_PROFILE_DIR=debug ;;
    *) AC_MSG_ERROR([KAFKARS_CARGO_PROFILE must be release or debug, not $KAFKARS_PROFILE]) ;;
  esac
  AC_MSG_RESULT([$KAFKARS_PROFILE])

  dnl The crate lives in this directory; its workspace (and default target dir) one level up.
  KAFKARS_SRCDIR="`cd "$srcdir" && pwd`"
  KAFKARS_TARGET_DIR="${CARGO_TARGET_DIR:-$KAFKARS_SRCDIR/../target}"

  PHP_SUBST(CARGO)
  PHP_SUBST(KAFKARS_PROFILE)
  PHP_SUBST(KAFKARS_PROFILE_DIR)
  PHP_SUBST(KAFKARS_SRCDIR)
  PHP_SUBST(KAFKARS_TARGET_DIR)
  dnl Point ext-php-rs at this PHP only when it is not the one on PATH: its build script
  dnl reruns whenever PHP/PHP_CONFIG change, so the default case keeps the same environment
  dnl as a plain `cargo build` and shares its cache.
  kafkars_php_config="`command -v "$PHP_CONFIG" 2>/dev/null`"
  if test "$kafkars_php_config" = "`command -v php-config 2>/dev/null`"; then
    KAFKARS_PHP_ENV=""
  else
    KAFKARS_PHP_ENV="PHP_CONFIG=$kafkars_php_config PHP=$PHP_EXECUTABLE"
  fi
  PHP_SUBST(KAFKARS_PHP_ENV)

  dnl phpize installs whatever is in modules/; build-modules depends on PHP_MODULES.
  PHP_MODULES="$PHP_MODULES \$(phplibdir)/kafkars.so"

  kafkars_frag="`pwd`/kafkars.mk"
  printf '%s\n' \
    '.PHONY: kafkars-cargo' \
    'kafkars-cargo:' \
    '	cd "$(KAFKARS_SRCDIR)" && $(KAFKARS_PHP_ENV) "$(CARGO)" build --profile $(KAFKARS_PROFILE) -p kafkars-php --target-dir "$(KAFKARS_TARGET_DIR)"' \
    '$(phplibdir)/kafkars.so: kafkars-cargo' \
    '	@mkdir -p $(phplibdir)' \
    '	cp "$(KAFKARS_TARGET_DIR)/$(KAFKARS_PROFILE_DIR)/libkafkars_php.so" $(phplibdir)/kafkars.so' \
    > "$kafkars_frag"
  PHP_ADD_MAKEFILE_FRAGMENT([$kafkars_frag])
fi
