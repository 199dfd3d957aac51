#!/usr/bin/env bash
# terraform fmt -check on terraform/, then `init -backend=false` and `validate` for each root
# (terraform/bootstrap, terraform/environments/staging, terraform/environments/production).
# Offline when a provider mirror is found: TF_PLUGIN_DIR, else /opt/tf-plugins, else the first
# folder named tf-plugins within three levels of /. Without one, init downloads the providers
# from the registry (GitHub Actions), checked against the committed .terraform.lock.hcl.
# Working data goes to .terraform/check-<root> at the repo root (git-ignored): parallel clones
# never share it.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v terraform >/dev/null; then
  cat >&2 <<'MSG'
terraform.sh: terraform is not installed. Install Terraform 1.11 (required_version "~> 1.11.0"):
  Debian/Ubuntu: HashiCorp's apt repository (https://developer.hashicorp.com/terraform/install), or
  the release zip: unzip terraform_1.11.4_linux_amd64.zip -d /usr/local/bin
  GitHub Actions: hashicorp/setup-terraform with terraform_version 1.11.4
MSG
  exit 1
fi

# A CLI config file that is named but missing only adds a warning to every command.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then unset TF_CLI_CONFIG_FILE; fi
export TF_IN_AUTOMATION=1 TF_INPUT=0

plugin_dir=${TF_PLUGIN_DIR:-}
if [ -z "$plugin_dir" ]; then
  if [ -d /opt/tf-plugins ]; then
    plugin_dir=/opt/tf-plugins
  else
    plugin_dir=$(find / -maxdepth 3 -type d -name tf-plugins -not -path '/proc/*' 2>/dev/null | head -n 1 || true)
  fi
fi
if [ -n "$plugin_dir" ] && [ ! -d "$plugin_dir" ]; then
  echo "terraform.sh: TF_PLUGIN_DIR=$plugin_dir is not a directory" >&2
  exit 1
fi

echo "terraform.sh: $(terraform version | head -n 1)"
echo "terraform.sh: providers from ${plugin_dir:-the registry (no local mirror found)}"

echo "terraform.sh: terraform fmt -check -recursive terraform"
if ! terraform fmt -check -recursive -diff -no-color terraform; then
  echo "terraform.sh: files above are not formatted: run 'terraform fmt -recursive terraform'" >&2
  exit 1
fi

status=0
for root in terraform/bootstrap terraform/environments/staging terraform/environments/production; do
  data_dir="$PWD/.terraform/check-$(basename "$root")"
  init_args=(init -backend=false -input=false -no-color -lockfile=readonly)
  if [ -n "$plugin_dir" ]; then init_args+=("-plugin-dir=$plugin_dir"); fi
  if ! log=$(cd "$root" && TF_DATA_DIR="$data_dir" terraform "${init_args[@]}" 2>&1); then
    printf '%s\n' "$log" >&2
    echo "terraform.sh: FAILED terraform init in $root" >&2
    status=1
    continue
  fi
  if log=$(cd "$root" && TF_DATA_DIR="$data_dir" terraform validate -no-color 2>&1); then
    echo "terraform.sh: $root: $(printf '%s\n' "$log" | grep -m1 -i 'valid')"
  else
    printf '%s\n' "$log" >&2
    echo "terraform.sh: FAILED terraform validate in $root" >&2
    status=1
  fi
done
exit $status
