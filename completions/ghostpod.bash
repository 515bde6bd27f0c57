# bash completion for ghostpod(1)
# Installed as ${datadir}/bash-completion/completions/ghostpod; works without the
# bash-completion package too (source this file). Secret names are not completed: listing them
# needs the passphrase.

_ghostpod_commands="init secret passwd run shell enter pull identity lock status certs import save allow deny export help"
_ghostpod_globals="--vault --config --passphrase-fd --recovery-key-fd --help --version"

# Options of a command ("secret set", "run", ...), global options excluded.
_ghostpod_options() {
    case "$1" in
        init) echo "--kdf --user" ;;
        "secret set") echo "--file --kind --mode" ;;
        "secret ls") echo "--json" ;;
        "secret generate") echo "--force" ;;
        passwd) echo "--new-passphrase-fd --kdf" ;;
        run) echo "--profile --ttl --linger --mask" ;;
        shell) echo "--profile --ttl --linger" ;;
        enter) echo "--profile" ;;
        pull) echo "--no-shell --offline --cacert --env --quiet -q --json --ttl --linger --profile" ;;
        "identity set") echo "--backend --from-fd --host --cacert" ;;
        "identity show") echo "--backend --json" ;;
        "identity rm") echo "--backend" ;;
        allow) echo "--list" ;;
        lock) echo "--discard --json" ;;
        export) echo "--format --profile" ;;
        status) echo "--profile --json" ;;
        certs) echo "--warn-days --json" ;;
        import) echo "--overwrite --skip-unsafe --tazpod-passphrase-fd" ;;
        save) echo "--force --json" ;;
    esac
}

# Subcommands, for commands that have them.
_ghostpod_subcommands() {
    case "$1" in
        secret) echo "set get ls rm generate edit" ;;
        identity) echo "set show rm" ;;
        import) echo "tazpod dotenv" ;;
        help) echo "$_ghostpod_commands" ;;
    esac
}

# The config ghostpod would read: --config's value ($1), GHOSTPOD_CONFIG, .ghostpod/config.json
# searched upward from the working directory, else the user's own.
_ghostpod_config_file() {
    [[ -n "$1" ]] && { printf '%s\n' "$1"; return; }
    [[ -n "$GHOSTPOD_CONFIG" ]] && { printf '%s\n' "$GHOSTPOD_CONFIG"; return; }
    local dir="$PWD"
    while :; do
        [[ -f "$dir/.ghostpod/config.json" ]] && { printf '%s\n' "$dir/.ghostpod/config.json"; return; }
        [[ -z "$dir" || "$dir" == / ]] && break
        dir="${dir%/*}"
    done
    printf '%s\n' "${XDG_CONFIG_HOME:-$HOME/.config}/ghostpod/config.json"
}

# The profile names in config file $1, one a line. The file may be a hostile repository's: it is
# only tokenised (strings and brackets, nothing evaluated), names other than [A-Za-z0-9._@+-]
# are dropped (compgen -W expands its words), and anything unreadable or odd yields nothing.
_ghostpod_profile_names() {
    local file="$1" token depth=0 in_profiles=0 key="" expect_value=0
    [[ -f "$file" && -r "$file" ]] || return 0
    (($(wc -c <"$file" 2>/dev/null || echo 9999999) <= 1048576)) || return 0
    while IFS= read -r token; do
        case "$token" in
            "{" | "[")
                if ((depth == 1)) && ((expect_value)) && [[ "$key" == '"profiles"' && "$token" == "{" ]]; then in_profiles=1; fi
                ((depth++)); expect_value=0 ;;
            "}" | "]")
                ((depth--)); ((depth <= 1)) && in_profiles=0; expect_value=0 ;;
            ":") expect_value=1 ;;
            ",") expect_value=0; key="" ;;
            \"*)
                if ((expect_value)); then
                    expect_value=0
                elif ((depth == 1)); then
                    key="$token"
                elif ((depth == 2 && in_profiles)); then
                    token="${token#\"}"; token="${token%\"}"
                    [[ "$token" =~ ^[A-Za-z0-9._@+][A-Za-z0-9._@+-]*$ ]] && printf '%s\n' "$token"
                fi ;;
        esac
    done < <(LC_ALL=C grep -oE '"([^"\\]|\\.)*"|[][{}:,]' "$file" 2>/dev/null)
    return 0
}

# Whether option $1 takes a value (the next word).
_ghostpod_takes_value() {
    case "$1" in
        --vault | --config | --passphrase-fd | --recovery-key-fd | --file | --kind | --mode | --kdf | \
            --new-passphrase-fd | --profile | --ttl | --linger | --cacert | --env | --from-fd | \
            --warn-days | --tazpod-passphrase-fd | --host | --format) return 0 ;;
    esac
    return 1
}

_ghostpod() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev=""
    ((COMP_CWORD > 0)) && prev="${COMP_WORDS[COMP_CWORD - 1]}"
    COMPREPLY=()

    # The value of an option.
    if [[ "$prev" == --profile ]]; then
        local j config=""
        for ((j = 1; j < COMP_CWORD - 1; j++)); do
            [[ "${COMP_WORDS[j]}" == --config ]] && config="${COMP_WORDS[j + 1]}"
            [[ "${COMP_WORDS[j]}" == --config=* ]] && config="${COMP_WORDS[j]#--config=}"
        done
        COMPREPLY=($(compgen -W "$(_ghostpod_profile_names "$(_ghostpod_config_file "$config")")" -- "$cur"))
        return 0
    fi
    case "$prev" in
        --vault | --config | --file | --cacert)
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return 0 ;;
        --kdf) COMPREPLY=($(compgen -W "interactive moderate sensitive" -- "$cur")); return 0 ;;
        --kind) COMPREPLY=($(compgen -W "file env identity token-cache" -- "$cur")); return 0 ;;
        --backend) COMPREPLY=($(compgen -W "infisical vault" -- "$cur")); return 0 ;;
        --mode) COMPREPLY=($(compgen -W "0400 0600 0440 0644" -- "$cur")); return 0 ;;
        --format) COMPREPLY=($(compgen -W "dotenv dotenv-export json yaml" -- "$cur")); return 0 ;;
        --passphrase-fd | --recovery-key-fd | --new-passphrase-fd | --from-fd | --tazpod-passphrase-fd | \
            --ttl | --linger | --env | --warn-days | --host) return 0 ;;
    esac

    # Walk the words before the cursor: the command, its subcommand, positional arguments, '--'.
    local i word command="" sub="" positional=0 dashdash=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if ((dashdash)); then
            ((positional++))
            continue
        fi
        case "$word" in
            --) dashdash=$i; positional=0; continue ;;
            -*=*) continue ;;
            -*)
                _ghostpod_takes_value "$word" && ((i++))
                continue ;;
        esac
        if [[ -z "$command" ]]; then
            command="$word"
        elif [[ -z "$sub" && -n "$(_ghostpod_subcommands "$command")" ]]; then
            sub="$word"
        else
            ((positional++))
        fi
    done

    # After '--' of run or pull: a command and its arguments.
    if ((dashdash)); then
        if ((positional == 0)); then
            COMPREPLY=($(compgen -c -- "$cur" | sort -u))
        else
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
        fi
        return 0
    fi

    if [[ -z "$command" ]]; then
        if [[ "$cur" == -* ]]; then
            COMPREPLY=($(compgen -W "$_ghostpod_globals" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_ghostpod_commands" -- "$cur"))
        fi
        return 0
    fi

    local subs key="$command"
    subs="$(_ghostpod_subcommands "$command")"
    [[ -n "$sub" && "$command" != import && "$command" != help ]] && key="$command $sub"
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(_ghostpod_options "$key") --help --vault --config --passphrase-fd --recovery-key-fd" -- "$cur"))
        return 0
    fi
    if [[ -n "$subs" && -z "$sub" ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return 0
    fi
    case "$key" in
        "secret generate")
            ((positional == 0)) && COMPREPLY=($(compgen -W "age" -- "$cur"))
            ((positional == 1)) && COMPREPLY=($(compgen -W "sops/age/keys.txt" -- "$cur")) ;;
        "secret set" | "secret get" | "secret rm" | "secret edit")
            # A NAME; suggest the names with a built-in mapping (see ghostpod-config(5)).
            ((positional == 0)) && COMPREPLY=($(compgen -W "kube/config talos/config sops/age/keys.txt \
                aws/credentials terraform.d/credentials.tfrc.json" -- "$cur")) ;;
        allow | deny)
            # A repository's .ghostpod/config.json, .infisical.json, .ghostpod/vault or its directory.
            ((positional == 0)) && COMPREPLY=($(compgen -f -- "$cur")) && compopt -o filenames 2>/dev/null ;;
        import)
            # tazpod FILE | dotenv FILE
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null ;;
        help)
            ((positional == 0)) && COMPREPLY=($(compgen -W "$(_ghostpod_subcommands "$sub")" -- "$cur")) ;;
    esac
    return 0
}

complete -F _ghostpod ghostpod
