#!/usr/bin/env python3
"""Static checks of the LinkedServer PowerShell module (no PowerShell needed).

- every .ps1/.psm1/.psd1 under powershell/ parses with tree-sitter-powershell with no ERROR or
  MISSING node, and the module's text files are ASCII (5.1 reads BOM-less scripts as ANSI);
- every command in FunctionsToExport has its file Public/<Name>.ps1 defining that function, an
  approved verb, no dbatools/SqlServer-style name, comment-based help with .SYNOPSIS,
  .DESCRIPTION, at least one .EXAMPLE and a .PARAMETER for each parameter (and none for a
  parameter that does not exist); SupportsShouldProcess exactly when the verb changes something,
  ConfirmImpact High on Remove-*;
- the Public folder holds no command that is not exported;
- every exported command but Connect-LinkedServerInstance takes -Connection, -SqlInstance,
  -ConnectionString, -SqlCredential, -Encrypt and -TrustServerCertificate (never -LibraryPath) and
  runs its work through Use-LinkedServerClient in its process block (no end block);
- those connection parameters and their help are written the same in every command;
- every Private/<Name>.ps1 defines <Name> with the same comment-based help as a command;
- the manifest's type and format files exist, are well-formed XML and name classes of the interop
  source; the ErrorCategory names the interop source maps statuses to are real ErrorCategory values;
  every option parameter of the interop's option table is a parameter of Set-LinkedServerOption;
- every interop method, constructor and property the scripts use exists, with that many arguments.

Exit status 1 when anything fails. Needs: pip install tree-sitter tree-sitter-powershell
"""

import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import tree_sitter
import tree_sitter_powershell

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "powershell" / "LinkedServer"
INTEROP = MODULE / "LinkedServer.Interop.cs"

# Verbs this module may use (all from Get-Verb), and those that change state.
APPROVED_VERBS = {"Add", "Connect", "Export", "Get", "Install", "New", "Remove", "Set", "Sync", "Test"}
# Export writes a file (with -Path), so it confirms like the verbs that change the server.
CHANGING_VERBS = {"Add", "Export", "Install", "New", "Remove", "Set", "Sync"}
# System.Management.Automation.ErrorCategory member names.
ERROR_CATEGORIES = {
    "NotSpecified", "OpenError", "CloseError", "DeviceError", "DeadlockDetected", "InvalidArgument",
    "InvalidData", "InvalidOperation", "InvalidResult", "InvalidType", "MetadataError", "NotImplemented",
    "NotInstalled", "ObjectNotFound", "OperationStopped", "OperationTimeout", "SyntaxError", "ParserError",
    "PermissionDenied", "ResourceBusy", "ResourceExists", "ResourceUnavailable", "ReadError", "WriteError",
    "FromStdErr", "SecurityError", "ProtocolError", "ConnectionError", "AuthenticationError",
    "LimitsExceeded", "QuotaExceeded", "NotEnabled",
}

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
failures = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        failures.append(message)
    return condition


def text(source, node):
    return source[node.start_byte:node.end_byte].decode("utf-8")


def walk(node):
    yield node
    for child in node.children:
        yield from walk(child)


def syntax_problems(source):
    tree = PARSER.parse(source)
    return [
        f"{'MISSING' if node.is_missing else 'ERROR'} at line {node.start_point[0] + 1}"
        for node in walk(tree.root_node)
        if node.type == "ERROR" or node.is_missing
    ], tree


def function_node(tree, source, name):
    for node in walk(tree.root_node):
        if node.type == "function_statement":
            names = [c for c in node.children if c.type == "function_name"]
            if names and text(source, names[0]).lower() == name.lower():
                return node
    return None


def help_comment(function, source):
    for node in walk(function):
        if node.type == "comment" and text(source, node).startswith("<#"):
            return text(source, node)
    return ""


def cmdlet_binding_arguments(function, source):
    """Argument names of [CmdletBinding(...)] and ConfirmImpact's value."""
    arguments, impact = set(), None
    for node in walk(function):
        if node.type != "attribute":
            continue
        names = [c for c in node.children if c.type == "attribute_name"]
        if not names or text(source, names[0]) != "CmdletBinding":
            continue
        for argument in walk(node):
            if argument.type == "attribute_argument":
                body = text(source, argument)
                key = body.split("=")[0].strip()
                arguments.add(key)
                if key == "ConfirmImpact":
                    impact = body.split("=", 1)[1].strip().strip("'\"")
    return arguments, impact


def parameters(function, source):
    blocks = [n for n in walk(function) if n.type == "param_block"]
    if not blocks:
        return []
    return [
        text(source, child)[1:]
        for parameter in walk(blocks[0])
        if parameter.type == "script_parameter"
        for child in parameter.children
        if child.type == "variable"
    ]


def split_arguments(text):
    """Top-level comma-separated pieces of an argument or parameter list."""
    pieces, depth, current = [], 0, ""
    for char in text:
        if char in "([{<":
            depth += 1
        elif char in ")]}>":
            depth -= 1
        if char == "," and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        pieces.append(current)
    return pieces


def csharp_members(interop, class_name):
    """Public methods (name -> set of arities; constructors as 'new') and properties of a class."""
    start = interop.index(f"class {class_name}")
    following = interop.find("\n    public ", start + 1)
    body = interop[start:following if following > 0 else len(interop)]
    methods = {}
    for name, parameters in re.findall(r"public (?:static )?[\w<>\[\], ]+? (\w+)\(([^)]*)\)", body):
        methods.setdefault(name, set()).add(len(split_arguments(parameters)))
    for parameters in re.findall(rf"public {class_name}\(([^)]*)\)", body):
        methods.setdefault("new", set()).add(len(split_arguments(parameters)))
    properties = set(re.findall(r"public (?:static )?[\w<>\[\]?, ]+? (\w+)\s*\{", body))
    properties |= set(re.findall(r"public const \w+ (\w+)\s*=", body))
    return methods, properties


def call_arguments(source, open_paren):
    """The argument text of a call whose '(' is at open_paren."""
    depth = 0
    for index in range(open_paren, len(source)):
        if source[index] == "(":
            depth += 1
        elif source[index] == ")":
            depth -= 1
            if depth == 0:
                return source[open_paren + 1:index]
    return ""


# System.Exception properties a LinkedServerException has too.
EXCEPTION_PROPERTIES = {"Message", "InnerException", "StackTrace", "Data", "Source", "HResult"}
# Variables of the module that always hold an interop object, by their names.
INTEROP_VARIABLES = {"client": "LinkedServerClient", "State.Opened": "LinkedServerClient",
                     "Connection": "LinkedServerClient", "spec": "LinkedServerSpec",
                     "exception": "LinkedServerException"}


def check_interop_calls(interop):
    """PowerShell cannot run here: make sure every interop member the scripts use exists with
    that number of arguments."""
    used = 0
    for path in sorted(MODULE.rglob("*.ps1")) + [MODULE / "LinkedServer.psm1"]:
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        calls = [(INTEROP_VARIABLES[m.group(1)], m.group(2), m.end() - 1 if m.group(3) else None)
                 for m in re.finditer(r"\$((?:State\.)?\w+)\.(\w+)(\()?", source) if m.group(1) in INTEROP_VARIABLES]
        calls += [(m.group(1), m.group(2), m.end() - 1 if m.group(3) else None)
                  for m in re.finditer(r"\[LinkedServer\.Interop\.(\w+)\]::(\w+)(\()?", source)]
        for class_name, member, paren in calls:
            used += 1
            methods, properties = csharp_members(interop, class_name)
            if paren is None:
                inherited = EXCEPTION_PROPERTIES if class_name == "LinkedServerException" else set()
                check(member in properties or member in inherited,
                      f"{where}: {class_name} has no public property {member}")
                continue
            arity = len(split_arguments(call_arguments(source, paren)))
            if member == "Dispose":
                check("Dispose" in methods, f"{where}: {class_name} is not disposable")
            else:
                check(arity in methods.get(member, ()),
                      f"{where}: {class_name}.{member} with {arity} arguments does not exist")
    return used


def check_help(name, function, source):
    """Comment-based help with .SYNOPSIS, .DESCRIPTION, .EXAMPLE and exactly one .PARAMETER per
    parameter."""
    comment = help_comment(function, source)
    for keyword in (".SYNOPSIS", ".DESCRIPTION", ".EXAMPLE"):
        check(keyword in comment, f"{name}: help has no {keyword}")
    declared = parameters(function, source)
    documented = re.findall(r"^\s*\.PARAMETER\s+(\S+)", comment, re.M)
    for parameter in declared:
        check(parameter in documented, f"{name}: parameter -{parameter} has no .PARAMETER help")
    for parameter in documented:
        check(parameter in declared, f"{name}: .PARAMETER {parameter} documents no parameter")
    return declared


def named_block(function, source, keyword):
    """The text of a function's begin/process/end block ('' when it has none)."""
    for node in walk(function):
        if node.type == "named_block":
            block = text(source, node)
            if block.split(None, 1)[0].lower() == keyword:
                return block
    return ""


# The command that opens connections itself, so the only one without -Connection.
CONNECTING_COMMAND = "Connect-LinkedServerInstance"


def check_client_handling(name, function, source, declared):
    """-Connection / -SqlInstance handling goes through Use-LinkedServerClient in process."""
    if name == CONNECTING_COMMAND:
        check("Connection" not in declared, f"{name}: should not take -Connection")
        return
    for parameter in ("Connection", "SqlInstance", "ConnectionString", "SqlCredential", "Encrypt",
                      "TrustServerCertificate"):
        check(parameter in declared, f"{name}: has no -{parameter} parameter")
    check("LibraryPath" not in declared, f"{name}: only {CONNECTING_COMMAND} takes -LibraryPath")
    process = named_block(function, source, "process")
    check(re.search(r"Use-LinkedServerClient -Cmdlet \$PSCmdlet -BoundParameters \$PSBoundParameters "
                    r"-Action \{\s*param\(\$client\)", process),
          f"{name}: process does not run its work through Use-LinkedServerClient")
    check(not named_block(function, source, "end"),
          f"{name}: has an end block; connections are closed in Use-LinkedServerClient's finally")
    whole = text(source, function)
    check(not re.search(r"\$Connection\b", whole.replace("[LinkedServer.Interop.LinkedServerClient]$Connection", "")),
          f"{name}: uses $Connection directly instead of Use-LinkedServerClient")
    check("Connect-LinkedServerInstance" not in whole.split("#>", 1)[-1],
          f"{name}: connects itself instead of through Use-LinkedServerClient")


# The connection parameters and their help are written out in each command (a script module has
# no base class): they must stay the same everywhere. Only Get-LinkedServer, the entry point of
# pipelines, also takes a client or instance names by value.
CONNECTION_PARAMS = re.compile(
    r"^ *\[Parameter\(Mandatory, ParameterSetName = 'Connection'.*?\[switch\]\$TrustServerCertificate\n", re.M | re.S)
CONNECTION_HELP = re.compile(r"^ *\.PARAMETER Connection\n.*?(?=^ *\.EXAMPLE)", re.M | re.S)


def check_connection_blocks(names):
    """The connection parameter block and its help are identical in every command."""
    blocks = {}
    for name in names:
        text = (MODULE / "Public" / f"{name}.ps1").read_text(encoding="utf-8")
        params, help_text = CONNECTION_PARAMS.search(text), CONNECTION_HELP.search(text)
        if not check(params and help_text, f"{name}: connection parameters or their help not found"):
            continue
        block = params.group(0)
        if name == "Get-LinkedServer":
            block = block.replace(", ValueFromPipeline)]", ")]")
        blocks[name] = (block, help_text.group(0))
    reference = blocks.get("Test-LinkedServer")
    for name, block in blocks.items():
        check(block == reference, f"{name}: connection parameters or their help differ from Test-LinkedServer's")
    print(f"checked the connection parameters of {len(blocks)} commands")


def exported_functions(manifest):
    block = re.search(r"FunctionsToExport\s*=\s*@\((.*?)\)", manifest, re.S)
    return re.findall(r"'([^']+)'", block.group(1)) if block else []


def main():
    scripts = sorted(p for p in (ROOT / "powershell").rglob("*") if p.suffix in (".ps1", ".psm1", ".psd1"))
    for script in scripts:
        problems, _ = syntax_problems(script.read_bytes())
        check(not problems, f"{script.relative_to(ROOT)}: {', '.join(problems)}")
    print(f"parsed {len(scripts)} PowerShell files")

    # Windows PowerShell 5.1 reads BOM-less .ps1/.psm1 files in the ANSI code page.
    module_files = sorted(p for p in MODULE.rglob("*") if p.is_file())
    for path in module_files:
        if path.suffix in (".ps1", ".psm1", ".psd1", ".ps1xml", ".cs"):
            check(path.read_bytes().isascii(), f"{path.relative_to(ROOT)}: non-ASCII text")

    manifest = (MODULE / "LinkedServer.psd1").read_text(encoding="utf-8")
    exports = exported_functions(manifest)
    check(exports, "LinkedServer.psd1 exports no function")
    public = sorted(p.stem for p in (MODULE / "Public").glob("*.ps1"))
    check(sorted(exports) == public, f"exports {sorted(exports)} differ from Public/ files {public}")

    interop = INTEROP.read_text(encoding="utf-8")
    for name in exports:
        path = MODULE / "Public" / f"{name}.ps1"
        if not check(path.exists(), f"{name}: {path.relative_to(ROOT)} missing"):
            continue
        source = path.read_bytes()
        _, tree = syntax_problems(source)
        function = function_node(tree, source, name)
        if not check(function is not None, f"{name}: function not defined in its file"):
            continue
        verb, _, noun = name.partition("-")
        check(verb in APPROVED_VERBS, f"{name}: verb {verb} is not an approved verb")
        check("Dba" not in noun and not noun.startswith("Sql"), f"{name}: name may clash with dbatools/SqlServer")

        declared = check_help(name, function, source)
        check_client_handling(name, function, source, declared)

        arguments, impact = cmdlet_binding_arguments(function, source)
        changes = verb in CHANGING_VERBS
        check(("SupportsShouldProcess" in arguments) == changes,
              f"{name}: SupportsShouldProcess {'missing' if changes else 'declared but it changes nothing'}")
        if verb == "Remove":
            check(impact == "High", f"{name}: ConfirmImpact should be High, is {impact}")
        if changes:
            check("ShouldProcess(" in source.decode("utf-8"), f"{name}: never calls ShouldProcess")
    print(f"checked {len(exports)} exported commands")
    check_connection_blocks([n for n in exports if n != CONNECTING_COMMAND])

    helpers = sorted((MODULE / "Private").glob("*.ps1"))
    module_text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(MODULE.rglob("*.ps1")))
    for path in helpers:
        source = path.read_bytes()
        _, tree = syntax_problems(source)
        function = function_node(tree, source, path.stem)
        if not check(function is not None, f"{path.stem}: function not defined in {path.relative_to(ROOT)}"):
            continue
        check_help(path.stem, function, source)
        check(len(re.findall(rf"(?:^\s*|\()(?:\$\w+ = )?{re.escape(path.stem)}(?: |$)", module_text, re.M)) > 0,
              f"{path.stem}: Private helper is never called")
    print(f"checked {len(helpers)} private helpers")

    classes = set(re.findall(r"\bclass\s+(\w+)", interop))
    for key in ("TypesToProcess", "FormatsToProcess"):
        for file_name in re.findall(rf"{key}\s*=\s*@\('([^']+)'\)", manifest):
            path = MODULE / file_name
            if not check(path.exists(), f"{key}: {file_name} missing"):
                continue
            try:
                document = ElementTree.parse(path)
            except ElementTree.ParseError as error:
                check(False, f"{file_name}: {error}")
                continue
            for type_name in document.iter():
                if type_name.tag in ("TypeName", "Name") and (type_name.text or "").startswith("LinkedServer.Interop."):
                    check(type_name.text.rsplit(".", 1)[1] in classes,
                          f"{file_name}: {type_name.text} is not a class of the interop source")

    start = interop.index("string ErrorCategory")
    categories = re.findall(r'return "(\w+)";', interop[start:interop.index("default:", start) + 40])
    check(len(categories) >= 10, "ErrorCategory mapping not found in the interop source")
    for category in categories:
        check(category in ERROR_CATEGORIES, f"interop maps a status to unknown ErrorCategory {category}")

    table = interop[interop.index("parameterToOption ="):interop.index("};", interop.index("parameterToOption ="))]
    option_parameters = re.findall(r'\{ "(\w+)", "[^"]+" \}', table)
    source = (MODULE / "Public" / "Set-LinkedServerOption.ps1").read_bytes()
    _, tree = syntax_problems(source)
    set_parameters = parameters(function_node(tree, source, "Set-LinkedServerOption"), source)
    for option in option_parameters:
        check(option in set_parameters, f"Set-LinkedServerOption has no -{option} parameter")
    print(f"checked {len(categories)} error categories and {len(option_parameters)} option parameters")

    used = check_interop_calls(interop)
    print(f"checked {used} uses of interop members by the scripts")

    for failure in failures:
        print(f"FAIL: {failure}")
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
