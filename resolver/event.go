package resolver

import (
	"errors"
	"fmt"

	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/model"
)

// inputsError names the publishEvents argument at fault: inputs, or the
// field of one of them, as in inputs[3].type.
func inputsError(err error) error {
	var in *delivery.InputError
	if errors.As(err, &in) {
		return model.AtField(fmt.Sprintf("inputs[%d]", in.Index), in.Err)
	}
	return model.AtField("inputs", err)
}
